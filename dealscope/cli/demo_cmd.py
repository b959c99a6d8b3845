"""`demo`: seed the deterministic demo pipeline as dataset `demo`."""

from __future__ import annotations

from dealscope import store
from dealscope.cli.common import add_db_option, open_engine
from dealscope.demo import DEMO_DATASET, write_demo


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="write the demo dataset")
    add_db_option(parser)
    parser.add_argument(
        "--if-absent", action="store_true", help="do nothing when a demo dataset already exists"
    )
    parser.set_defaults(handler=run)


def run(args) -> int:
    engine = open_engine(args.db)
    if args.if_absent and store.dataset_exists(engine, DEMO_DATASET):
        print(f"dataset {DEMO_DATASET!r} already present; nothing to do")
        return 0
    dataset_id = write_demo(engine)
    print(f"wrote dataset {DEMO_DATASET!r} (id {dataset_id})")
    return 0
