"""The blog post this project grew from, as its reader would configure this module: its
``oauth.register('google', ...)`` call, and the same as an ``[auth.google]`` table."""

# The blog post's registration (../shared/seed/, its lines 37-43), verbatim but for the list
# item's indentation. A copy rather than a read of the post: the post lives outside this
# repository, so a test reading it would skip in CI and in every other checkout, and a test that
# silently does not run proves nothing. tests/auth/test_provider_endpoints.py checks that the TOML table
# is this call, key for key.
BLOG_POST_REGISTER = """\
oauth.register('google',
               client_id='your_client_id',
               client_secret='your_client_secret',
               authorize_url='https://accounts.google.com/o/oauth2/auth',
               token_url='https://accounts.google.com/o/oauth2/token',
               api_base_url='https://www.googleapis.com/oauth2/v1/',
               client_kwargs={'scope': 'openid email profile'})
"""
# ... as its reader writes it in .streamlit/secrets.toml.
BLOG_POST_TOML = """\
[auth.google]
client_id = "your_client_id"
client_secret = "your_client_secret"
authorize_url = "https://accounts.google.com/o/oauth2/auth"
token_url = "https://accounts.google.com/o/oauth2/token"
api_base_url = "https://www.googleapis.com/oauth2/v1/"
client_kwargs = { scope = "openid email profile" }
"""
