"""What pyproject.toml cannot say: the Streamlit app of the top-level ``dashboards/`` folder
ships inside the package, as ``lmp_analytics/dashboards/`` (package data: it is run by
``streamlit run`` as a script, never imported by the package). A plain ``pip install .`` thus
has a working ``lmp dashboard`` and ``lmp demo``; :func:`lmp_analytics.config.dashboard_app`
finds the app there, or in the checkout's ``dashboards/`` when run from a source checkout.

Everything else (metadata, dependencies, package data) is in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

APP = "lmp_analytics.dashboards"

setup(
    # The same packages as `[tool.setuptools.packages.find] include = ["lmp_analytics*"]`,
    # plus the app folder and its subfolders mapped under the package.
    packages=[
        *find_namespace_packages(include=["lmp_analytics*"]),
        APP,
        *(f"{APP}.{sub}" for sub in find_namespace_packages("dashboards")),
    ],
    package_dir={APP: "dashboards"},
)
