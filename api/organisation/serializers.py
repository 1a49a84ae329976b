from rest_framework import serializers

from divisions.models import OrgUnit


class CodeField(serializers.SlugRelatedField):
    """A related object named by its code (or another slug); a NUL is refused as invalid
    (PostgreSQL cannot even look it up)."""

    def __init__(self, slug_field: str = "code", **kwargs) -> None:
        super().__init__(slug_field=slug_field, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class OrgUnitSerializer(serializers.ModelSerializer):
    parent = CodeField(read_only=True, allow_null=True)
    ancestors = serializers.SerializerMethodField(
        help_text="Codes from the region down to the parent."
    )
    depth = serializers.IntegerField(read_only=True, help_text="0 = region.")

    class Meta:
        model = OrgUnit
        fields = [
            "code",
            "name",
            "kind",
            "parent",
            "ancestors",
            "path",
            "depth",
            "valid_from",
            "valid_to",
        ]

    def get_ancestors(self, unit: OrgUnit) -> list[str]:
        return unit.ancestor_codes
