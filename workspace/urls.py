from django.urls import path

from workspace import views

urlpatterns = [
    path("deployment/locations/<str:name>/reload", views.location_reload, name="location-reload"),
]
