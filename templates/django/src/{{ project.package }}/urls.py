from django.http import HttpRequest, JsonResponse
from django.urls import path

from .api import api

urlpatterns = [
    path("", api.urls),
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
