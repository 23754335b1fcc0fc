"""The protocol core: configuration, the login flow and its checks, refresh, logout, validation
and sessions. Framework-free: nothing here imports Streamlit, Starlette or the development
provider (``tests/auth/test_import_purity.py`` checks it)."""
