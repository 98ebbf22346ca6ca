"""The module panel (.ui) loads with PySide6's QUiLoader offscreen, holds every widget PSCGAN.py names, binds
every parameter of the parameter node, and is saved as a screenshot artifact."""
from __future__ import annotations

import ast
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from pictures import png_rgb

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
QtWidgets = pytest.importorskip("PySide6.QtWidgets")
from PySide6.QtCore import QBuffer, QByteArray, QIODevice  # noqa: E402
from PySide6.QtUiTools import QUiLoader  # noqa: E402

MODULE_DIR = Path(__file__).resolve().parents[1] / "PSCGANExtension"
UI_FILE = MODULE_DIR / "Resources" / "UI" / "PSCGAN.ui"
MODULE_FILE = MODULE_DIR / "PSCGAN.py"
PARAMETERS_FILE = MODULE_DIR / "PSCGANLib" / "parameters.py"

# Slicer / CTK widgets and the plain Qt class each falls back to outside Slicer.
FALLBACK = {
    "qMRMLWidget": "QWidget",
    "ctkCollapsibleButton": "QGroupBox",
    "qMRMLNodeComboBox": "QComboBox",
    "ctkPathLineEdit": "QLineEdit",
    "ctkDirectoryButton": "QPushButton",
}
# Widget class -> the Qt class the parameterNodeWrapper connector for a field type needs in Slicer.
CONNECTABLE = {
    "vtkMRML": {"qMRMLNodeComboBox"},
    "bool": {"QCheckBox"},
    "str": {"QComboBox", "QLineEdit"},
    "pathlib.Path": {"ctkPathLineEdit", "ctkDirectoryButton"},
}


def ui_tree() -> ET.ElementTree:
    return ET.parse(UI_FILE)


def plain_qt_ui() -> bytes:
    """The .ui with Slicer's custom classes mapped to base Qt classes and Slicer-only parts removed."""
    tree = ui_tree()
    root = tree.getroot()
    for widget in root.iter("widget"):
        cls = widget.get("class")
        if cls in FALLBACK:
            widget.set("class", FALLBACK[cls])
        if cls == "ctkCollapsibleButton":  # its "text" is a QGroupBox's "title"
            for prop in widget.findall("property"):
                if prop.get("name") == "text":
                    prop.set("name", "title")
        for prop in list(widget.findall("property")):
            if prop.find("set") is not None or prop.get("name") in ("nodeTypes", "collapsed", "showChildNodeTypes",
                                                                      "noneEnabled", "addEnabled", "removeEnabled",
                                                                      "renameEnabled", "nameFilters", "filters"):
                widget.remove(prop)
    for tag in ("customwidgets", "connections"):
        for element in root.findall(tag):
            root.remove(element)
    return ET.tostring(root, encoding="utf-8")


@pytest.fixture(scope="module")
def app():
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


@pytest.fixture(scope="module")
def panel(app):
    data = QByteArray(plain_qt_ui())
    buffer = QBuffer(data)
    buffer.open(QIODevice.ReadOnly)
    widget = QUiLoader().load(buffer)
    assert widget is not None, "QUiLoader could not load PSCGAN.ui"
    return widget


def names_used_by_module() -> set[str]:
    return set(re.findall(r"self\.ui\.([A-Za-z_][A-Za-z0-9_]*)", MODULE_FILE.read_text()))


def parameter_fields() -> dict[str, str]:
    """name -> annotation text of the parameterNodeWrapper class (parsed; the wrapper needs the Slicer app)."""
    tree = ast.parse(PARAMETERS_FILE.read_text())
    fields = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any("parameterNodeWrapper" in ast.unparse(d) for d in node.decorator_list):
            for item in node.body:
                if isinstance(item, ast.AnnAssign):
                    fields[item.target.id] = ast.unparse(item.annotation)
    return fields


def test_every_widget_named_in_module_exists(panel):
    used = names_used_by_module()
    assert {"applyButton", "cancelButton", "progressBar", "recomputeMetricsButton", "exportButton"} <= used
    missing = sorted(name for name in used if panel.findChild(QtWidgets.QWidget, name) is None)
    assert not missing, f"PSCGAN.py uses widgets missing from PSCGAN.ui: {missing}"


def test_every_parameter_has_exactly_one_suitable_widget():
    fields = parameter_fields()
    assert {"inputCine", "device", "checkpointPath", "outputLGE", "outputSegmentation", "outputTable", "overwriteOutputs"} <= set(fields)
    bound: dict[str, list[str]] = {}
    for widget in ui_tree().getroot().iter("widget"):
        for prop in widget.findall("property"):
            if prop.get("name") == "SlicerParameterName":
                bound.setdefault(prop.find("string").text, []).append(widget.get("class"))
    assert set(bound) == set(fields), (set(bound) ^ set(fields))
    for name, annotation in fields.items():
        assert len(bound[name]) == 1, name
        base = re.match(r"(?:Annotated\[)?([\w.]+)", annotation).group(1)
        kind = "vtkMRML" if base.startswith("vtkMRML") else base
        assert bound[name][0] in CONNECTABLE[kind], (name, annotation, bound[name][0])


def test_device_choices_match_the_logic_and_parameter_node(panel):
    import sys

    sys.path.insert(0, str(MODULE_DIR))
    from PSCGANLib.logic import DEVICES

    combo = panel.findChild(QtWidgets.QComboBox, "deviceComboBox")
    assert tuple(combo.itemText(i) for i in range(combo.count())) == DEVICES
    choices = ast.literal_eval(re.search(r"Choice\((\[.*?\])\)", parameter_fields()["device"]).group(1))
    assert tuple(choices) == DEVICES


def test_panel_screenshot(panel, artifacts_dir):
    panel.resize(400, 700)
    for box in panel.findChildren(QtWidgets.QGroupBox):
        box.setVisible(True)
    panel.show()
    QtWidgets.QApplication.processEvents()
    path = artifacts_dir / "pscgan_panel.png"
    assert panel.grab().save(str(path))
    shot = png_rgb(path).mean(axis=-1)
    ratio = shot.shape[1] / panel.width()
    assert shot.shape[0] == round(panel.height() * ratio)
    # every visible label and button is drawn where it sits, with its text (darker strokes on its background;
    # a disabled button's grey text too)
    from PySide6.QtCore import QPoint

    checked = []
    for widget in panel.findChildren(QtWidgets.QLabel) + panel.findChildren(QtWidgets.QPushButton):
        if not widget.isVisibleTo(panel) or not widget.text().strip() or widget.width() < 8:
            continue
        corner = widget.mapTo(panel, QPoint(0, 0))
        rows = slice(round(corner.y() * ratio), round((corner.y() + widget.height()) * ratio))
        cols = slice(round(corner.x() * ratio), round((corner.x() + widget.width()) * ratio))
        area = shot[rows, cols]
        assert area.size and (np.median(area) - area.min()) > 0.15, f"{widget.objectName()} ({widget.text()!r}) not drawn"
        checked.append(widget.objectName())
    assert {"applyButton", "inputCineLabel", "deviceLabel"} <= set(checked)


def test_module_file_declares_module_widget_test_and_honest_help():
    tree = ast.parse(MODULE_FILE.read_text())
    classes = {node.name: [ast.unparse(b) for b in node.bases] for node in tree.body if isinstance(node, ast.ClassDef)}
    assert "ScriptedLoadableModule" in classes["PSCGAN"]
    assert "ScriptedLoadableModuleWidget" in classes["PSCGANWidget"]
    assert "ScriptedLoadableModuleTest" in classes["PSCGANTest"]
    text = MODULE_FILE.read_text()
    assert "Not for clinical decisions" in text and "Trained on" in text and "Medical Image" in text
    assert 'categories = ["Cardiac"]' in text and "connectGui(self.ui)" in text
