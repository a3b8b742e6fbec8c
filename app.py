"""SwipeSavvy Campaign Insights: navigation, sign-in gate and the shared sidebar."""
import streamlit as st

from ui.session import account_box, identity_provider_configured, sign_in_gate
from ui.widgets import sidebar_filters

st.set_page_config(page_title="SwipeSavvy Campaign Insights", page_icon=":material/insights:", layout="wide")

user = sign_in_gate()

pages = [
    st.Page("pages/campaigns.py", title="Campaign analytics", icon=":material/campaign:", default=True),
    st.Page("pages/system.py", title="System", icon=":material/monitor_heart:"),
]
navigation = st.navigation(pages)

if not identity_provider_configured():
    st.sidebar.info("**Demo mode** — no identity provider is configured. Pick a role below to "
                    "see the app as that person.", icon=":material/science:")
account_box(user)
sidebar_filters()
navigation.run()
