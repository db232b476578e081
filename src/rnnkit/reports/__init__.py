"""Reports: confusion matrices, plots, results tables and self-contained HTML reports.

Needs numpy; matplotlib is imported only inside the plotting functions.
"""
from ._attention_map import plot_attention_maps
from ._confusion import ClassMetrics, accuracy, class_metrics, confusion_matrix
from ._confusion_plot import plot_confusion
from ._curves import History, best_epoch, plot_curves, plot_loss_comparison
from ._gradient_flow import plot_gradient_flow
from ._gate_maps import plot_gate_maps
from ._gradient_time import plot_gradient_time
from ._long_dependency import plot_learning_curves, plot_length_sweep, write_experiment_files
from ._posteriors import plot_posteriors
from ._html import (Figure, Html, KeyValues, Preformatted, Section, Summary, Table, image_data_uri,
                    render_report, write_report)
from ._run_report import class_metrics_rows, write_comparison_report, write_run_report
from ._tables import (RESULT_COLUMNS, cells_side_by_side, key_value_table_html, results_table_html,
                      sort_results, table_html, write_results_csv)

__all__ = [
    "confusion_matrix", "accuracy", "class_metrics", "ClassMetrics", "class_metrics_rows",
    "History", "best_epoch", "plot_curves", "plot_loss_comparison", "plot_confusion",
    "plot_gradient_flow", "plot_posteriors", "plot_attention_maps",
    "Section", "Summary", "Figure", "Table", "KeyValues", "Html", "Preformatted", "render_report",
    "write_report", "image_data_uri", "write_run_report", "write_comparison_report",
    "RESULT_COLUMNS", "sort_results", "table_html", "results_table_html", "key_value_table_html",
    "write_results_csv", "cells_side_by_side",
]
__all__ += ["plot_gate_maps", "plot_gradient_time", "plot_length_sweep", "plot_learning_curves", "write_experiment_files"]
