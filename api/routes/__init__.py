"""The API's routers, one a resource; api/main.py includes them. Each route checks who may
(api/permissions.py) and hands the request to its service (services/)."""
