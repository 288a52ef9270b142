"""Load one layer of an OGC API - Features server in headless QGIS through its OAPIF provider,
authenticated by a Basic auth config (user any name, password the API key) kept in the QGIS
auth database of a new profile folder; print what QGIS got as one JSON line.

Run by tests/test_api_clients.py with the system Python that python3-qgis installs into
(``/usr/bin/python3``), not the project's environment:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis_oapif.py URL LAYER KEY PROFILE_FOLDER
"""

import json
import os
import sys

url, layer_name, key, folder = sys.argv[1:5]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QGIS_AUTH_DB_DIR_PATH"] = folder  # the auth database of this profile only

from qgis.core import (  # noqa: E402  (after the environment QGIS reads at import)
    QgsApplication,
    QgsAuthMethodConfig,
    QgsDataSourceUri,
    QgsVectorLayer,
)

QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False, folder)
app.initQgis()
auth = QgsApplication.authManager()
auth.setMasterPassword("geoplan-test-profile", True)
config = QgsAuthMethodConfig("Basic")
config.setName("geoplan")
config.setConfig("username", "qgis")
config.setConfig("password", key)
stored = auth.storeAuthenticationConfig(config)[0]

uri = QgsDataSourceUri()
uri.setParam("url", url)
uri.setParam("typename", layer_name)
uri.setAuthConfigId(config.id())
layer = QgsVectorLayer(uri.uri(False), layer_name, "OAPIF")
features = list(layer.getFeatures()) if layer.isValid() else []
extent = layer.extent()
print(
    json.dumps(
        {
            "auth_stored": bool(stored),
            "valid": layer.isValid(),
            "feature_count": layer.featureCount(),
            "ids": sorted(str(f["id"]) for f in features),
            "extent": [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()],
        }
    )
)
del features, layer  # QGIS objects must go before the application, or the exit crashes
app.exitQgis()
