"""Layer 2, io: the code that reads and writes files.

Corpus folders and dev cases (`corpus`), batch files of proposals (`batch`), files written whole or not at all
(`atomic`), the CORDIS H2020 extract (`h2020`) and importers of real export formats (`importers`). Everything above
receives values from here and never opens a file itself (built artefacts are written by `retrieval.artefacts`
through `atomic`).
"""
