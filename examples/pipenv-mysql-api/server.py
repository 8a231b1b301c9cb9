# mysqlclient is compiled in the image against libmariadb: importing it fails when libmariadb3 is missing
import MySQLdb
from flask import Flask

app = Flask(__name__)


@app.get("/health")
def health():
    return {"status": "ok", "client": MySQLdb.get_client_info()}
