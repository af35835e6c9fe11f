# One image for web, worker and beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends default-libmysqlclient-dev pkg-config gcc \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV MSESYNC_DATA_DIR=/data PYTHONUNBUFFERED=1
RUN mkdir -p /data && python manage.py collectstatic --noinput -v 0
EXPOSE 8000
CMD ["gunicorn", "msesync_site.wsgi", "-b", "0.0.0.0:8000", "-w", "2", "--threads", "4"]
