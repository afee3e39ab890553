"""Extensions, created unbound and initialised by the factory."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from sharing.db import Base
from sharing.errors import ErrorSchema


class SharingApi(Api):
    """flask-smorest, documenting our error body instead of its own."""

    ERROR_SCHEMA = ErrorSchema


db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
api = SharingApi()
