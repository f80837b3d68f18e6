"""rnnexp's shipped configs (YAML), found by Hydra as `pkg://rnnexp.conf`:
config.yaml picks one option of each group (api/, rnn/, data/, task/), and
the schema (rnnexp/config/schema.py) gives every value its type and default.
"""
