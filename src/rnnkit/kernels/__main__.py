"""``python -m rnnkit.kernels build``: compile the optional C++ time loops; ``status``: say whether they load."""
import sys

from . import _extension


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    if command == "build":
        try:
            print(f"built {_extension.build(verbose='-v' in argv)}")
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
    elif command != "status":
        print("usage: python -m rnnkit.kernels [build [-v] | status]", file=sys.stderr)
        return 2
    print(_extension.status())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
