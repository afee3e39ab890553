"""Administration pages for régies."""

from flask import Blueprint

bp = Blueprint("regies", __name__, template_folder="templates")
