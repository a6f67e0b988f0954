"""Layer 3, retrieval: encoders, the vector index, the lexical scorer and score fusion, on arrays.

The only layer that touches a model (`encoders`); the index owns its id array (`index`); `lexical` is a
scikit-learn-shaped estimator; `fusion` combines score arrays; `artefacts` stores built embeddings with a manifest.
No dates, eligibility or explanations here.
"""
