"""A tutorial notebook, read in the app: the page each login-trace step points to."""

import streamlit as st

from dashboard.notebooks import names, read

options = names()
wanted = st.query_params.get("name", options[0])
name = st.selectbox("Notebook", options, index=options.index(wanted) if wanted in options else 0)
st.query_params["name"] = name
st.caption(f"Saved outputs of `{name}`; run it yourself with `jupyter lab {name}`.")

for cell in read(name):
    if cell.kind == "markdown":
        st.markdown(cell.source)  # our own prose, written for this repository
        continue
    st.code(cell.source, language="python")
    for output in cell.outputs:
        if output.kind in ("html", "svg"):
            st.html(output.content)
        elif output.kind == "error":
            st.error(output.content)
        else:
            st.code(output.content, language=None)
