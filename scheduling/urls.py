from django.urls import path

from scheduling import views

urlpatterns = [
    path("automation/", views.automation, name="automation"),
    path("automation/<str:kind>/<str:location_name>/<str:name>/<str:action>", views.instigator_action,
         name="instigator-action"),
]
