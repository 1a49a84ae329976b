"""API permissions, following divisions.access: everyone signed in reads; writes by role."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from divisions.access import can_write, can_write_anywhere


class ReadAllWriteOwnSubtree(BasePermission):
    """Reads for every signed-in user; writes only inside the org subtrees the user may change.

    The object check looks at the object's org unit; the services check again, including the
    org unit a write names (a new object, or one moved to another unit).
    """

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or can_write_anywhere(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return can_write(request.user, obj.org_unit)
