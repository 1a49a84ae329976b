from api.base import ReadOnlyViewSet
from api.organisation.filters import OrgUnitFilterSet
from api.organisation.serializers import OrgUnitSerializer
from divisions.models import OrgUnit


class OrgUnitViewSet(ReadOnlyViewSet):
    """The organisation: region > division > area > unit, each with its validity."""

    queryset = OrgUnit.objects.select_related("parent").order_by("path")
    serializer_class = OrgUnitSerializer
    filterset_class = OrgUnitFilterSet
    lookup_field = "code"
    export_name = "org_units"
