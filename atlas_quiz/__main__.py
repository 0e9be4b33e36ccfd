"""``python -m atlas_quiz``: the same as the ``atlas-quiz`` command."""

from .cli import main

if __name__ == "__main__":
    main()
