"""The scheduler: touches coalesce, urgent keys first, others at most once per period."""

from __future__ import annotations

from cloud.replenishment.decide import Decision
from cloud.replenishment.scheduler import CHUNK, Key, Scheduler


class Monotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Decided(Scheduler):
    """A scheduler whose keys' last decisions the test sets (`record`)."""

    def __init__(self, every_s: float, clock: Monotonic) -> None:
        self.last: dict[Key, Decision] = {}
        super().__init__(evaluate_every_s=every_s, last=self.last.get, monotonic=clock)

    def record(self, key: Key, *, position: float, reorder_point: float) -> None:
        self.last[key] = Decision(
            reorder_point=reorder_point,
            order_up_to=reorder_point * 2,
            inventory_position=position,
            open_order_qty=0.0,
            order_quantity=0.0,
            received_quantity=None,
            decided=True,
            stockout=False,
            stockout_imminent=False,
            delivery_horizon_days=2.0,
        )


def make(every_s: float = 5.0) -> tuple[Decided, Monotonic]:
    clock = Monotonic()
    return Decided(every_s, clock), clock


def test_touches_coalesce_into_one_evaluation() -> None:
    s, _ = make()
    for _ in range(50):
        s.touch([("s", "X")])
    assert s.next_round(0.01) == [("s", "X")]
    assert s.next_round(0.01) == []


def test_a_key_far_from_its_reorder_point_waits_for_its_period() -> None:
    s, clock = make(every_s=5)
    s.touch([("s", "X")])
    assert s.next_round(0.01) == [("s", "X")]  # never evaluated: urgent
    s.record(("s", "X"), position=500, reorder_point=50)
    s.touch([("s", "X")])
    assert s.next_round(0.01) == []
    assert s.waiting == 1, "kept, not dropped"
    clock.t += 5
    assert s.next_round(0.01) == [("s", "X")]


def test_a_key_near_its_reorder_point_is_taken_on_every_touch() -> None:
    s, _ = make(every_s=3600)
    s.touch([("s", "X")])
    s.next_round(0.01)
    s.record(("s", "X"), position=70, reorder_point=50)  # within 1.5 x
    s.touch([("s", "X")])
    assert s.next_round(0.01) == [("s", "X")]


def test_urgent_keys_go_first_and_a_round_is_bounded() -> None:
    s, clock = make(every_s=5)
    keys = [("s", f"K{i:03}") for i in range(CHUNK * 2)]
    s.touch(keys)
    assert s.next_round(0.01) == keys[:CHUNK]
    assert s.next_round(0.01) == keys[CHUNK:]
    for key in keys:
        s.record(key, position=1000, reorder_point=10)
    s.record(keys[-1], position=5, reorder_point=10)
    clock.t += 10
    s.touch(keys)
    assert s.next_round(0.01) == [keys[-1]]


def test_a_failed_round_is_due_again_at_once() -> None:
    s, _ = make(every_s=3600)
    s.touch([("s", "X")])
    (key,) = s.next_round(0.01)
    s.record(key, position=1000, reorder_point=10)
    s.retry(k for k in [key])
    assert s.next_round(0.01) == [key]
