import gc

from sharing import create_app

app = create_app()

# What is loaded by now (modules, the application) lives as long as the process: the garbage
# collector need not scan it again at each full collection. Without this, a short-lived
# `flask federation sync` spent 50–100 ms of its run in one such collection (bench/sync.py).
gc.freeze()
