"""GET /openapi.json: the API's own description (openapi.py builds it), the one call needing no token."""
from flask import current_app, jsonify

from . import bp, openapi
from .openapi import operation


@bp.get("/openapi.json")
@operation("This document", auth=False, tags=["meta"],
           responses={200: ("The OpenAPI 3.1 description of the API", None)})
def openapi_json():
    return jsonify(openapi.document(current_app))
