# The README's own install and run commands (its "Set up"), in a container. NOT RUN HERE: the
# machine this was written on has no Docker; tests/test_deployment_recipes.py checks that each
# command is the README's and each path is in the repository.
FROM python:3.11-slim

# A user of its own: nothing runs as root.
RUN useradd --create-home --uid 10001 app
WORKDIR /home/app/streamlit-authlib-login
COPY --chown=app:app . .
USER app

RUN python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt

# .local/ holds the generated cookie secret and the SQLite session store (README, Deployment):
# a volume, so they outlive the container. With [auth] session_store (Redis) nothing is written there.
RUN mkdir .local
VOLUME /home/app/streamlit-authlib-login/.local

# Every interface: the container's network is its own. Streamlit reads its options from
# STREAMLIT_* variables too (STREAMLIT_SERVER_BASE_URL_PATH=app for a sub-path).
ENV PATH=/home/app/streamlit-authlib-login/.venv/bin:$PATH \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0
EXPOSE 8501

# GET /auth/health: 200 while the session store answers, 503 otherwise; under the sub-path, if any.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; p = os.environ.get('STREAMLIT_SERVER_BASE_URL_PATH', '').strip('/'); urllib.request.urlopen('http://127.0.0.1:8501' + ('/' + p if p else '') + '/auth/health', timeout=4)"]

CMD ["streamlit", "run", "app.py"]
