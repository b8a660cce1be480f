"""The Telegram adapter: an aiogram 3 bot that feeds learner activity into the engine.

Routers per feature (`routers/`), screens that render engine views (`screens/`), callback data
factories (`callbacks`), middlewares (throttling, button ownership, in-flight tracking), gettext
translations (`locales/`), and the plugin that adds `questline bot` and relays awards.
"""
