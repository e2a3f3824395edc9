"""A Flask checkout service that calls a pricing downstream, as a team might write it.

GET /checkout/<item> asks PRICING_URL for the item's price and answers the total; an
unhandled error is Flask's 500 (and its traceback on stderr). PORT sets the port.
"""
import json
import os
import urllib.request

from flask import Flask, jsonify

PRICING = os.environ["PRICING_URL"]
app = Flask(__name__)


class PricingError(RuntimeError):
    pass


def fetch_price(item):
    try:
        with urllib.request.urlopen(f"{PRICING}/price/{item}") as response:
            return json.load(response)["price"]
    except OSError as error:
        raise PricingError(f"pricing failed for item {item}: {error}") from error


@app.get("/")
def ready():
    return jsonify(ok=True)


@app.get("/checkout/<int:item>")
def checkout(item):
    price = fetch_price(item)
    return jsonify(item=item, total=round(price * 1.2, 2))


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["PORT"]), threaded=True)
