"""The one write path of the national comparison: Kolada's values into BenchmarkValue.

For each KPI some indicator is mapped to, fetch the region, the country and the peer
regions over the configured years (total, women and men) and make the stored values equal
to what Kolada publishes. Idempotent: a sync that finds what is stored writes no value and
says so. A value Kolada no longer sends is kept (the last good value); a KPI Kolada no
longer knows is marked withdrawn, its values kept. A source that fails (unreachable, slow,
malformed) leaves every stored value as it was and is named in the sync log. Each created
or changed value is recorded in the audit trail.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import SYSTEM, Actor, record_change, snapshot
from domain.kolada import COUNTRY, DataValue, KoladaFormatError, KpiMeta
from indicators.models import Indicator

from .kolada import KoladaClient, KoladaError
from .models import BenchmarkArea, BenchmarkKpi, BenchmarkSync, BenchmarkValue, SyncOutcome

logger = logging.getLogger(__name__)

VALUE_FIELDS = ("value", "count", "status", "source", "publication_date")


@dataclass
class SyncResult:
    kpis: list[str] = field(default_factory=list)
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    withdrawn: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if self.errors:
            return SyncOutcome.FAILED if len(self.errors) >= len(self.kpis) else SyncOutcome.PARTIAL
        return SyncOutcome.CHANGED if self.created or self.changed else SyncOutcome.UNCHANGED

    def summary(self) -> str:
        text = (
            f"{len(self.kpis)} KPIs: {self.created} created, {self.changed} changed, "
            f"{self.unchanged} unchanged"
        )
        if not (self.created or self.changed):
            text += " (nothing written)"
        if self.withdrawn:
            text += f"; no longer published: {', '.join(self.withdrawn)}"
        if self.errors:
            text += f"; {len(self.errors)} failed, last values kept: " + "; ".join(self.errors)
        return text


def mapped_kpis() -> list[str]:
    """The Kolada KPIs the catalogue's indicators are mapped to."""
    return sorted(
        set(Indicator.objects.exclude(kolada_kpi="").values_list("kolada_kpi", flat=True))
    )


def configured_areas() -> list[str]:
    """The region, the country and the peers, as the settings name them."""
    areas = [settings.STYRKORT_KOLADA_REGION, COUNTRY, *settings.STYRKORT_KOLADA_PEERS]
    return list(dict.fromkeys(areas))


def configured_years(now: datetime | None = None) -> list[int]:
    last = (now or timezone.now()).year
    return list(range(last - settings.STYRKORT_KOLADA_YEARS + 1, last + 1))


def default_client() -> KoladaClient:
    return KoladaClient(
        base_url=settings.STYRKORT_KOLADA_URL,
        timeout=settings.STYRKORT_KOLADA_TIMEOUT_SECONDS,
        retries=settings.STYRKORT_KOLADA_RETRIES,
    )


def sync_benchmarks(
    *,
    client: KoladaClient,
    kpis: Sequence[str] | None = None,
    areas: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    actor: Actor = SYSTEM,
) -> SyncResult:
    """Fetch and store the mapped KPIs (or `kpis`); one transaction per KPI, one log row."""
    started = timezone.now()
    areas = list(areas or configured_areas())
    years = list(years or configured_years(started))
    result = SyncResult(kpis=list(kpis if kpis is not None else mapped_kpis()))
    if result.kpis:
        try:
            names = client.areas(areas)
        except (KoladaError, KoladaFormatError) as error:
            names = {}  # the names are a courtesy: the ids still identify the values
            logger.warning("kolada: area names not fetched: %s", error)
        _store_areas(names)
    for kpi_id in result.kpis:
        try:
            meta = client.kpi(kpi_id)
            values = client.data(kpi_id, areas, years) if meta is not None else []
        except (KoladaError, KoladaFormatError) as error:
            result.errors.append(f"{kpi_id}: {error}")
            logger.warning("kolada: %s not synced, last values kept: %s", kpi_id, error)
            continue
        _apply(kpi_id, meta, values, source=client.source, actor=actor, result=result)
    BenchmarkSync.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        outcome=result.outcome,
        source=client.source,
        kpis=result.kpis,
        areas=areas,
        created=result.created,
        changed=result.changed,
        unchanged=result.unchanged,
        errors=result.errors,
    )
    return result


@transaction.atomic
def _apply(
    kpi_id: str,
    meta: KpiMeta | None,
    values: list[DataValue],
    *,
    source: str,
    actor: Actor,
    result: SyncResult,
) -> None:
    now = timezone.now()
    kpi = BenchmarkKpi.objects.select_for_update().filter(pk=kpi_id).first()
    if meta is None:
        # Kolada no longer knows the KPI: keep what was published, say since when.
        result.withdrawn.append(kpi_id)
        if kpi is not None and kpi.withdrawn_at is None:
            before = snapshot(kpi)
            kpi.withdrawn_at = now
            kpi.save(update_fields=["withdrawn_at"])
            record_change(actor=actor, obj=kpi, before=before, reference="kolada")
        return
    wanted = {
        "title": meta.title[:2000],
        "publication_date": meta.publication_date,
        "is_divided_by_gender": meta.is_divided_by_gender,
        "municipality_type": meta.municipality_type,
        "source": source,
        "withdrawn_at": None,
    }
    if kpi is None:
        kpi = BenchmarkKpi.objects.create(id=kpi_id, **wanted)
        record_change(actor=actor, obj=kpi, before=None, reference="kolada")
    elif any(getattr(kpi, k) != v for k, v in wanted.items()):
        before = snapshot(kpi)
        for k, v in wanted.items():
            setattr(kpi, k, v)
        kpi.save()
        record_change(actor=actor, obj=kpi, before=before, reference="kolada")
    stored = {(v.area, v.year, v.gender): v for v in BenchmarkValue.objects.filter(kpi=kpi)}
    for item in values:
        fields = {
            "value": item.value,
            "count": item.count,
            "status": item.status,
            "source": source,
            "publication_date": meta.publication_date,
        }
        current = stored.get((item.area, item.year, item.gender))
        if current is None:
            row = BenchmarkValue.objects.create(
                kpi=kpi,
                area=item.area,
                year=item.year,
                gender=item.gender,
                fetched_at=now,
                **fields,
            )
            record_change(actor=actor, obj=row, before=None, reference="kolada")
            result.created += 1
        elif any(getattr(current, k) != v for k, v in fields.items()):
            before = snapshot(current)
            for k, v in fields.items():
                setattr(current, k, v)
            current.fetched_at = now
            current.save()
            record_change(actor=actor, obj=current, before=before, reference="kolada")
            result.changed += 1
        else:
            result.unchanged += 1


def _store_areas(names: dict[str, tuple[str, str]]) -> None:
    for area, (title, kind) in names.items():
        stored = BenchmarkArea.objects.filter(pk=area).first()
        if stored is None or (stored.title, stored.type) != (title, kind):
            BenchmarkArea.objects.update_or_create(pk=area, defaults={"title": title, "type": kind})
