"""The review web app (Flask): ``create_app(db_url)``; ``settlewatch.web.wsgi:app`` for servers."""

from settlewatch.web.app import create_app

__all__ = ["create_app"]
