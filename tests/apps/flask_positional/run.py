from web import app

if __name__ == "__main__":
    app.run("0.0.0.0", 5000, True, use_reloader=True)  # dev box
