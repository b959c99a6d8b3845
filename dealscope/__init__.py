"""DealScope: analytics for sales opportunity pipelines. Pure Python; no Streamlit here."""

__version__ = "0.1.0"
