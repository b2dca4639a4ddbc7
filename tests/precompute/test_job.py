"""A store's job: its tile task given by reference, recorded as its class and typed options, rebuilt
from the store's attributes alone (array tasks), also from stores made when tasks were functions."""

from __future__ import annotations

from pipeline.model.spec import ModelSpec
from pipeline.precompute.job import Job
from pipeline.snvs.task import SnvTile
from pipeline.tracks.task import TrackTile

MODEL = ModelSpec("/weights")


def test_a_job_round_trips_through_the_store_attributes():
    for task in (SnvTile(distance=50, mask=True, per_tissue=False, slots=3),
                 TrackTile(heads=({"path": "h.pt", "digest": "ab", "task": "sites", "columns": ["p_donor"]},))):
        job = Job(task, MODEL, "/ref.fa")
        attrs = job.to_attrs()
        assert attrs["task"] == f"{type(task).__module__}:{type(task).__name__}"
        assert Job.from_attrs(attrs) == job


def test_stores_made_when_tasks_were_functions_still_load():
    old = {"task": "pipeline.snvs.task:score_snv_tile", "model": MODEL.to_attrs(), "fasta": "/ref.fa",
           "options": {"distance": 20, "mask": False, "per_tissue": True, "slots": 2}}
    assert Job.from_attrs(old).task == SnvTile(20, False, True, 2)
    old_track = {"task": "pipeline.precompute.task:score_track_tile", "model": MODEL.to_attrs(), "fasta": "/ref.fa",
                 "options": {}}
    assert Job.from_attrs(old_track).task == TrackTile()
