import streamlit as st

st.write("probe")
