"""Plain functions behind the web page, one module per area; no Gradio here."""
