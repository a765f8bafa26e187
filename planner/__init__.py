"""planner: compute capacity planning (data-center builds, chip mix, power contracts) under
demand uncertainty, as a Pyomo model solved by HiGHS.

Data flows one way, one module per step:

- CSV folder -> :mod:`planner.loader` (with :mod:`planner.case_files`, :mod:`planner.csv_table`,
  :mod:`planner.schema`; :mod:`planner.case_warnings`) -> a validated :class:`planner.case.Case`;
- ``models/*.toml`` -> :mod:`planner.config` -> a ``ModelConfig`` (policy, integrality, risk, solver);
- Case + config -> :mod:`planner.formulation` (one function per constraint family) -> Pyomo model;
- model -> :mod:`planner.matrix` (with :mod:`planner.scaling`, :mod:`planner.magnitudes`) ->
  :mod:`planner.solve` (HiGHS; :mod:`planner.warmstart`) -> :mod:`planner.results` tables (with
  :mod:`planner.stranded`, :mod:`planner.risk`), or :mod:`planner.diagnose` in words;
- :mod:`planner.plan` runs a planning model end to end; :mod:`planner.compare`, :mod:`planner.sweep`
  and :mod:`planner.bench` run several;
- tables -> :mod:`planner.report`, :mod:`planner.output`, :mod:`planner.compare_report`,
  :mod:`planner.sweep_report`, :mod:`planner.charts`, written by :mod:`planner.runfolder`;
- :mod:`planner.cli` is the command line (entry point :mod:`planner.entry`, errors and exit codes
  :mod:`planner.cli_errors`); it builds no constraint and reads no CSV itself.

Nothing is imported here: ``planner`` starts without loading Pyomo (see :mod:`planner.entry`).
"""
