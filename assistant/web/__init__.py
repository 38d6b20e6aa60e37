"""The web app (Gradio): 问答 · 会议方案 · 工作清单 · 任务规划 · 知识库.

``handlers/`` are plain functions over the composition root (testable without a browser),
``tabs/`` lay out each tab and wire its events, ``layout`` puts the page together,
``patches`` holds what Gradio itself needs changed, ``server`` starts it all.
"""
