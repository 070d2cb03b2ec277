"""The Procfile, gunicorn settings and CI script say what the docs say they do."""
import pathlib
import runpy
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_procfile_lists_the_four_processes():
    lines = (ROOT / "Procfile").read_text().splitlines()
    processes = dict(line.split(": ", 1) for line in lines if line.strip())
    assert processes == {
        "web": "gunicorn -c gunicorn.conf.py 'api.app:get_app()'",
        "worker": "celery -A workers worker -l INFO",
        "flower": "celery -A workers flower --port=5555",
        "release": "python manage.py migrate",
    }


def test_gunicorn_binds_port_from_the_environment(monkeypatch):
    monkeypatch.setenv("PORT", "9123")
    for name in ("ACCESS_LOG", "WEB_CONCURRENCY", "WEB_WORKER_CLASS"):
        monkeypatch.delenv(name, raising=False)
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["bind"] == "0.0.0.0:9123"
    assert config["workers"] == 2
    # gevent (long-polls must not hold a thread each), sharing connections evenly between processes
    assert config["worker_class"] == "api.gevent_worker.EvenGeventWorker"
    assert config["accesslog"] is None


def test_any_other_worker_class_goes_to_gunicorn_as_it_is(monkeypatch):
    monkeypatch.setenv("WEB_WORKER_CLASS", "gthread")
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["worker_class"] == "gthread"


def test_gunicorn_defaults_to_port_8000(monkeypatch):
    monkeypatch.delenv("PORT", raising=False)
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["bind"] == "0.0.0.0:8000"


def test_ci_script_is_valid_bash():
    subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")], check=True)


def test_makefile_targets_parse():
    for target in ("run", "test", "migrate", "down", "clean"):
        subprocess.run(["make", "-n", "-C", str(ROOT), target], check=True, capture_output=True)
