"""Static files served by the app itself (WhiteNoise), so that gunicorn alone is a complete
server (README "Running without Docker"). In compose, nginx answers /static/ first."""

from pathlib import Path

from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, finding the files where the code keeps them (WHITENOISE_USE_FINDERS), and
    STATIC_ROOT as well once collectstatic has filled it (the Docker image).

    Without this, a checkout without collected files, as in `make test`, warns about the
    missing STATIC_ROOT on every start, though the finders serve every file."""

    def add_files(self, root, prefix=None):
        if Path(root).is_dir():
            super().add_files(root, prefix=prefix)
