from sharing import create_app

app = create_app()
