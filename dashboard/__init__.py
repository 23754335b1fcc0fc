"""The dashboard's logic: claim meanings, JWT inspection, the sequence diagram and
trace export. Framework-free; ``widgets.py`` is the only module that imports Streamlit."""
