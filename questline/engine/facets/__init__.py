"""The parts of the Engine's API, one module per area; `questline.engine.facade.Engine` joins
them. Each part is a class on `EngineBase`, which holds the engine's state and its one way to
write (`_write`: one transaction, retried when the database asks, notifications handed over).
"""
