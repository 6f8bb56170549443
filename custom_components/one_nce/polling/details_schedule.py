"""Which SIMs' details to fetch at each tick, and what to say when they fail.

The details coordinator asks 1NCE for a slice of the fleet every minute. What
goes into that slice, and how the schedule reacts to failures, is decided
here, with no Home Assistant in sight:

- the budget: every SIM once per detail interval, spread evenly; more while
  SIMs have never been read (a new setup fills in quickly); urgent SIMs (list
  state changed, or asked for) first, longest unread first, within the same
  budget; less while 1NCE asks to slow down;
- per SIM back-off: a SIM whose details fail is asked again after 1, 2, 4 ...
  minutes, at most a detail interval; a SIM 1NCE says it does not know waits
  for the next list poll (which drops it if it left the account);
- outage probing: SIMs failing one after another with no success between is
  1NCE's details failing as a whole; then one SIM at a time is probed, 1, 2,
  4 ... minutes apart (at most 15, or the list interval), until one answers;
- log once: SIMs starting to fail are logged once, and once more when none
  fails any more; single SIMs only at debug level.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import logging
import math
from typing import Final

from .backoff import Backoff

# This many SIMs failing one after another, with no success between, is 1NCE
# struggling rather than a few bad SIMs (fewer in smaller fleets: all of them).
STRUGGLING_STREAK: Final = 3
# Probes of struggling details are at most this far apart, whatever the list
# interval: recovery should show within minutes, not a list interval later.
MAX_PROBE_GAP: Final = timedelta(minutes=15)
# Sorts before any time a SIM's details were fetched at.
_NEVER: Final = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimFailure:
    """When a SIM whose details failed may be asked again.

    `after_poll` is set for a SIM 1NCE said it does not know: it waits until
    the list was read again (which drops it if it left the account).
    """

    failures: int
    retry_at: datetime
    after_poll: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TickResult:
    """What became of the SIMs one tick asked for, in the order asked.

    `not_found` maps SIMs 1NCE said it does not know, and `failed` the others
    that failed, to their error.
    """

    fetched: Collection[str]
    not_found: Mapping[str, BaseException]
    failed: Mapping[str, BaseException]


class DetailSchedule:
    """The detail tick's plan: budget, back-off, probing, and their log lines."""

    def __init__(
        self,
        *,
        tick: timedelta,
        interval: timedelta,
        catch_up: int,
        list_interval: timedelta,
        logger: logging.Logger,
        now: datetime,
    ) -> None:
        """Plan ticks `tick` apart that read every SIM once per `interval`.

        `catch_up` SIMs a tick are read while some were never read;
        `list_interval` bounds the gap between probes of failing details.
        `interval` may change between ticks (while the Data Streamer pushes
        what details tell, a day); a failing SIM's back-off keeps the first.
        """
        self.tick = tick
        self.interval = interval
        self.catch_up = catch_up
        self._logger = logger
        self._sim_backoff = Backoff(tick, interval)
        self._probe_backoff = Backoff(tick, min(list_interval, MAX_PROBE_GAP))
        self.failed: dict[str, SimFailure] = {}
        self._urgent: set[str] = set()
        self._list_states: dict[str, Hashable] = {}
        # SIMs failing since the warning that SIMs fail, and every SIM that
        # failed meanwhile: when none fails any more, that is logged once.
        self._failing: set[str] = set()
        self._failed_meanwhile: set[str] = set()
        self._warned = False
        # SIMs that newly failed since the last success, to tell an outage of
        # 1NCE's details from a few bad SIMs.
        self._streak: set[str] = set()
        self.struggling = False
        self._probe_gap = tick
        self._probe_at = now
        self._event_watchers: set[str] = set()
        self._events_due: set[str] = set()
        # The SIMs of the last selection that were urgent (to be read whole).
        self.forced: frozenset[str] = frozenset()

    # --- what the list says ------------------------------------------------------

    def note_list(
        self, states: Mapping[str, Hashable], *, list_ok: bool, now: datetime
    ) -> None:
        """Mark SIMs urgent whose list state changed since the last list.

        A list without any SIM is 1NCE's glitch far likelier than every SIM
        leaving at once: nothing is forgotten, so no SIM counts as new.
        """
        if not states:
            return
        for iccid, state in states.items():
            previous = self._list_states.get(iccid)
            if previous is not None and previous != state:
                self._urgent.add(iccid)
            self._list_states[iccid] = state
        for gone in set(self._list_states) - set(states):
            del self._list_states[gone]
        self._urgent &= set(states)
        if self.struggling and list_ok:
            # The list answering is a hint that 1NCE is back: probe at once.
            self._probe_at = min(self._probe_at, now)

    def request_soon(self, iccid: str, now: datetime) -> None:
        """Read one SIM at the next tick, skipping its back-off once.

        While 1NCE's details struggle it is the next probe. Asked for while
        the SIM is being fetched, it is fetched again: the change may have
        come too late for the answer on its way.
        """
        self._urgent.add(iccid)
        if self.struggling:
            self._probe_at = min(self._probe_at, now)

    def forget_absent(self, fleet: Collection[str]) -> None:
        """Drop what is kept of SIMs the list no longer has."""
        for gone in set(self.failed) - set(fleet):
            del self.failed[gone]
        self._failing &= set(fleet)
        self._failed_meanwhile &= set(fleet)
        self._streak &= set(fleet)

    # --- the last network event --------------------------------------------------

    def watch_events(self, iccid: str) -> None:
        """Read the SIM's newest event with its details, and once soon on its own."""
        self._event_watchers.add(iccid)
        self._events_due.add(iccid)

    def unwatch_events(self, iccid: str) -> None:
        """Stop reading the SIM's events."""
        self._event_watchers.discard(iccid)
        self._events_due.discard(iccid)

    def reads_events(self, iccid: str) -> bool:
        """Whether the SIM's newest event is read (and is now no longer due)."""
        self._events_due.discard(iccid)
        return iccid in self._event_watchers

    def events_due(self, known: Collection[str]) -> list[str]:
        """SIMs whose events were asked for but not read with their details yet."""
        return [iccid for iccid in self._events_due if iccid in known]

    # --- choosing ------------------------------------------------------------------

    def _may_ask(self, iccid: str, now: datetime, polls: int) -> bool:
        """Whether the SIM's back-off (if it failed) has run out, or it is urgent."""
        failure = self.failed.get(iccid)
        if failure is None or iccid in self._urgent:
            return True
        if failure.after_poll is not None and polls <= failure.after_poll:
            return False
        # Half a tick's slack, as for staleness below.
        return now >= failure.retry_at - self.tick / 2

    def select(
        self,
        now: datetime,
        fleet: Sequence[str],
        fetched_at: Mapping[str, datetime],
        *,
        slowdown: int,
        polls: int,
    ) -> list[str]:
        """Choose this tick's SIMs; they count as asked for from here on.

        `fetched_at` says when each SIM's details were last read; `slowdown`
        divides the budget while 1NCE asks to slow down; `polls` counts the
        successful list polls so far.
        """
        sims = [iccid for iccid in fleet if self._may_ask(iccid, now, polls)]
        # Longest unread first, never read before anything.
        unread_since = {iccid: fetched_at.get(iccid, _NEVER) for iccid in sims}
        urgent = sorted(
            (iccid for iccid in sims if iccid in self._urgent),
            key=unread_since.__getitem__,
        )
        retry = [iccid for iccid in sims if iccid in self.failed]
        never = [iccid for iccid in sims if iccid not in fetched_at]
        stale = sorted(
            (
                iccid
                for iccid in sims
                if iccid in fetched_at
                # Half a tick's slack: ticks come a few milliseconds early or
                # late, and a strict comparison would add a whole tick.
                and now - fetched_at[iccid] >= self.interval - self.tick / 2
            ),
            key=unread_since.__getitem__,
        )
        if self.struggling:
            if now < self._probe_at - self.tick / 2:
                return []
            # Probe with a SIM that worked before, if one is due: a SIM that
            # fails on its own would keep the probe failing.
            healthy = [iccid for iccid in [*never, *stale] if iccid not in self.failed]
            chosen = list(dict.fromkeys([*urgent, *healthy, *retry]))[:1]
        else:
            # Enough per tick to cover the fleet once per interval; more while
            # SIMs have never been fetched, so a new setup fills in quickly,
            # and room for urgent SIMs on top of the steady share within that
            # batch.
            steady = math.ceil(len(fleet) * (self.tick / self.interval))
            budget = max(
                steady,
                min(steady + len(urgent), self.catch_up),
                self.catch_up if never else 0,
            )
            budget = math.ceil(budget / slowdown)
            chosen = list(dict.fromkeys([*urgent, *retry, *never, *stale]))[:budget]
        # Asked for from here on, a SIM is asked again if wanted again: its
        # answer may be older than the change that made someone ask.
        self.forced = frozenset(self._urgent.intersection(chosen))
        self._urgent.difference_update(chosen)
        return chosen

    # --- after the tick ------------------------------------------------------------

    def record(
        self, now: datetime, result: TickResult, *, fleet_size: int, polls: int
    ) -> None:
        """Take in what the tick brought: back off, probe, log each change once."""
        for iccid in result.fetched:
            self.failed.pop(iccid, None)
            if iccid in self._failing:
                self._failing.discard(iccid)
                self._logger.debug("Details of SIM %s are fetched again", iccid)
        for iccid, error in result.not_found.items():
            # The SIM probably left the account: the next list poll tells.
            self._failing.discard(iccid)
            self._failed_meanwhile.discard(iccid)
            self._back_off(iccid, now, after_poll=polls)
            self._logger.debug("1NCE does not know SIM %s: %s", iccid, error)
        new_failures: list[tuple[str, BaseException]] = []
        for iccid, error in result.failed.items():
            if iccid not in self._failing:
                new_failures.append((iccid, error))
                self._logger.debug(
                    "Details of SIM %s could not be fetched: %s", iccid, error
                )
            self._back_off(iccid, now)
        self._judge(
            now,
            succeeded=bool(result.fetched),
            errors=bool(result.failed),
            new_failures=new_failures,
            fleet_size=fleet_size,
        )

    def _back_off(
        self, iccid: str, now: datetime, *, after_poll: int | None = None
    ) -> None:
        """Ask a failing SIM again after 1, 2, 4 ... ticks, at most an interval."""
        previous = self.failed.get(iccid)
        failures = previous.failures + 1 if previous else 1
        self.failed[iccid] = SimFailure(
            failures=failures,
            retry_at=now + self._sim_backoff.delay(failures),
            after_poll=after_poll,
        )

    def _judge(
        self,
        now: datetime,
        *,
        succeeded: bool,
        errors: bool,
        new_failures: list[tuple[str, BaseException]],
        fleet_size: int,
    ) -> None:
        """Tell a few failing SIMs from failing details; log each change once.

        SIMs failing one after another with no success between are 1NCE's
        details failing as a whole: logged once (instead of, not besides, the
        first warning), probed one SIM at a time until one answers, which is
        logged once as well.
        """
        self._failing.update(iccid for iccid, _ in new_failures)
        self._failed_meanwhile.update(iccid for iccid, _ in new_failures)
        if self.struggling:
            if succeeded:
                self.struggling = False
                self._streak.clear()
                # The outage's failures end with it: a SIM failing again now
                # fails on its own, and starts a warning of its own.
                self._end_failing()
                self._logger.info("Details of SIMs are fetched from 1NCE again")
            elif errors:
                self._probe_gap = self._probe_backoff.after(self._probe_gap)
                self._probe_at = now + self._probe_gap
            return
        if succeeded:
            self._streak.clear()
        else:
            self._streak.update(iccid for iccid, _ in new_failures)
        threshold = min(STRUGGLING_STREAK, fleet_size)
        if new_failures and not succeeded and len(self._streak) >= threshold:
            self._start_struggling(now, new_failures[0])
        elif new_failures and not self._warned:
            self._warned = True
            self._warn_failing(new_failures)
        elif self._warned and not self._failing:
            if len(self._failed_meanwhile) == 1:
                [iccid] = self._failed_meanwhile
                self._logger.info("Details of SIM %s are fetched again", iccid)
            else:
                self._logger.info("Details of all SIMs are fetched again")
            self._end_failing()

    def _start_struggling(
        self, now: datetime, first: tuple[str, BaseException]
    ) -> None:
        self.struggling = True
        self._warned = True
        self._probe_gap = self.tick
        self._probe_at = now + self.tick
        if len(self._streak) == 1:
            self._logger.warning(
                "Details of SIM %s could not be fetched; asking 1NCE again 1, 2,"
                " 4 ... minutes apart until it answers: %s",
                *first,
            )
            return
        self._logger.warning(
            "Details of %d SIMs in a row could not be fetched; asking 1NCE for"
            " one SIM at a time until it answers: %s",
            len(self._streak),
            first[1],
        )

    def _warn_failing(self, new_failures: Iterable[tuple[str, BaseException]]) -> None:
        failures = list(new_failures)
        if len(failures) == 1:
            self._logger.warning(
                "Details of SIM %s could not be fetched; asking it again after 1,"
                " 2, 4 ... minutes (other SIMs failing meanwhile are logged at"
                " debug level): %s",
                *failures[0],
            )
            return
        self._logger.warning(
            "Details of %d SIMs could not be fetched; asking each again after 1,"
            " 2, 4 ... minutes (SIMs failing meanwhile are logged at debug"
            " level): SIM %s: %s",
            len(failures),
            *failures[0],
        )

    def _end_failing(self) -> None:
        self._failing.clear()
        self._failed_meanwhile.clear()
        self._warned = False
