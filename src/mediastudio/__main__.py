from mediastudio.cli.main import run

run()
