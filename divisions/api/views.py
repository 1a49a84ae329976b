from divisions.filters import OrgUnitFilterSet
from divisions.models import OrgUnit

from .base import ReadOnlyViewSet
from .serializers import OrgUnitSerializer


class OrgUnitViewSet(ReadOnlyViewSet):
    """The organisation: region > division > area > unit, each with its validity."""

    queryset = OrgUnit.objects.select_related("parent").order_by("path")
    serializer_class = OrgUnitSerializer
    filterset_class = OrgUnitFilterSet
    lookup_field = "code"
    export_name = "org_units"
