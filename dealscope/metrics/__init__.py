"""Pure metric functions over the canonical DataFrames (no Streamlit, no database)."""
