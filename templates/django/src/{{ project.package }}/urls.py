from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path

from .api import api


def no_route(request: HttpRequest) -> JsonResponse:
    """A path no route matches (`/items/abc`, say) is a JSON 404, in development too."""
    return JsonResponse({"detail": "Not Found"}, status=404)


urlpatterns = [
    path("", api.urls),
    re_path(r"", no_route),
]


# Outside the API's routes, errors are JSON too (these apply when DEBUG is off).
def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse({"detail": "Bad Request"}, status=400)


def not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse({"detail": "Not Found"}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": "Internal Server Error"}, status=500)


handler400 = bad_request
handler404 = not_found
handler500 = server_error
