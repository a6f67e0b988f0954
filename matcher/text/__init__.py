"""Layer 1, text: what can be read from or said in words, without models or files.

Language guess and formatting (`language`), theme tagging by keywords and given vectors (`themes`), places named in
a text (`places`), the passages and lexical documents made from records (`passages`), word lists (`stopwords`) and
the message catalogues that turn reason codes into Dutch or English sentences (`i18n`).
"""
