from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from replication.util import tune_gc_for_server

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
application = get_wsgi_application()
tune_gc_for_server()
