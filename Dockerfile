# One image for web, worker and beat (docker-compose.yml picks the command; the worker's is
# `celery -A cloudify worker --pool threads ...`: README.md, "The worker").
FROM python:3.11-slim-bookworm

# WeasyPrint renders PDFs with Pango (and HarfBuzz, fontconfig); the fonts give it glyphs for
# Swedish text. libpq is not needed: psycopg2-binary ships its own.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 \
      fonts-dejavu-core shared-mime-info \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=cloudify.settings.base
WORKDIR /app
RUN useradd --create-home --uid 1000 cloudify

COPY pyproject.toml README.md ./
COPY cloudify ./cloudify
COPY integrations ./integrations
COPY portals ./portals
COPY sync ./sync
COPY notes ./notes
COPY billing ./billing
RUN pip install --upgrade "pip>=25.1" && pip install .
# The rest of the checkout, less what .dockerignore leaves out (the sandbox, tests, benchmarks:
# development tools, not part of the image).
COPY . .

# collectstatic only needs settings to import: development values, for this build step only.
RUN CLOUDIFY_ENV=development python manage.py collectstatic --noinput \
 && rm -rf /app/var/broker /app/var/db.sqlite3 && chown -R cloudify /app/var
USER cloudify
EXPOSE 8000
# gunicorn.conf.py scrubs OAuth codes, states and Replay tokens from the access log. Threads:
# an app-card button waits up to 8 s for its work, which must not hold up webhooks.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "cloudify.wsgi:application", \
     "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "8", "--access-logfile", "-", \
     "--forwarded-allow-ips", "*"]
