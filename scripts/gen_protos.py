"""Regenerate gen/: Python code (_pb2, .pyi, _pb2_grpc) and the descriptor set from protos/.

Run through `make protos`; `make check-generated` runs it and fails if git sees a change.
"""

import pathlib
import shutil

import grpc_tools
from google.rpc import status_pb2
from grpc_tools import protoc

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
GEN = ROOT / "gen"
DESCRIPTOR_SET = GEN / "shop" / "shop.protoset"
# Well-known types ship with grpcio-tools; google/rpc/* with googleapis-common-protos.
WELL_KNOWN = pathlib.Path(grpc_tools.__file__).parent / "_proto"
GOOGLEAPIS = pathlib.Path(status_pb2.__file__).parents[2]
# Compiled into the descriptor set so that Envoy can render error details as JSON.
ERROR_PROTOS = ["google/rpc/status.proto", "google/rpc/error_details.proto"]


def shop_protos() -> list[str]:
    return sorted(str(p.relative_to(PROTOS)) for p in (PROTOS / "shop").rglob("*.proto"))


def run_protoc(args: list[str]) -> None:
    includes = [f"-I{PROTOS}", f"-I{GOOGLEAPIS}", f"-I{WELL_KNOWN}"]
    if protoc.main(["protoc", *includes, *args]) != 0:
        raise SystemExit(f"protoc failed: {' '.join(args)}")


def add_init_files() -> None:
    for directory in [GEN / "shop", *(GEN / "shop").rglob("*")]:
        if directory.is_dir() and directory.name != "__pycache__":
            (directory / "__init__.py").touch()


def main() -> None:
    shutil.rmtree(GEN / "shop", ignore_errors=True)
    GEN.mkdir(exist_ok=True)
    files = shop_protos()
    run_protoc([f"--python_out={GEN}", f"--pyi_out={GEN}", f"--grpc_python_out={GEN}", *files])
    add_init_files()
    run_protoc(
        [
            "--include_imports",
            "--include_source_info",
            f"--descriptor_set_out={DESCRIPTOR_SET}",
            *files,
            *ERROR_PROTOS,
        ]
    )
    print(f"generated {len(files)} protos into {GEN.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
