"""SageMaker Linear Learner: train on features built here, then score a large file with batch transform.

The DPR201 workshop's classifier was a SageMaker Linear Learner (multiclass). Crossroads builds the
features **locally**, with the same code as the local models, so both see the same inputs:

* text: the intent classifier's TF-IDF (word + character n-grams,
  :meth:`core.arena.classifier.IntentClassifier.build_pipeline`, its ``features`` step);
* tables: the Data & Models preprocessing (:func:`core.tabular.preprocess.build_preprocessor` on the
  schema from :func:`core.tabular.schema.infer_schema`).

They are written as recordIO-protobuf (:mod:`core.aws.recordio`; sparse for TF-IDF, dense for tables)
or label-first headerless CSV, in three channels: ``train`` (shuffled: Linear Learner trains by
stochastic gradient descent, https://docs.aws.amazon.com/sagemaker/latest/dg/linear-learner.html),
``validation`` (model selection and early stopping) and ``test`` (the held-out rows: Linear
Learner reports ``test:*`` metrics on them, shown beside the local linear model's on the same rows).

``CreateTrainingJob`` gets ``predictor_type`` (``binary_classifier`` / ``multiclass_classifier`` /
``regressor``), ``num_classes`` (multiclass), ``feature_dim`` and ``mini_batch_size``
(https://docs.aws.amazon.com/sagemaker/latest/dg/ll_hyperparameters.html). The image is the
algorithm's registry path for the region, from ``linear_learner_images.json`` (copied from the
SageMaker Python SDK's table, source and commit in the file).

Batch transform: ``CreateModel`` (the training job's ``model.tar.gz`` + the same image), then
``CreateTransformJob`` on the new file's features, built by re-fitting the feature step on the
training rows recorded with the training job (deterministic; a fingerprint of the feature names
checks that it matches). Output is ``application/jsonlines``, one line per input record in order
(https://docs.aws.amazon.com/sagemaker/latest/dg/LL-in-formats.html): each input file's ``.out``
is joined back to the user's rows by (file, record position), and the counts are checked.

Modules, one concern each:

- :mod:`~core.aws.sagemaker_linear_learner.features`: splits, feature builders, recordIO/CSV shards;
- :mod:`~core.aws.sagemaker_linear_learner.metrics`: the local baseline, ``test:*`` metrics, the verdict;
- :mod:`~core.aws.sagemaker_linear_learner.training`: the image, hyperparameters and the training job;
- :mod:`~core.aws.sagemaker_linear_learner.transform`: the batch transform job and its output.

Importing this package registers both job kinds with :mod:`core.aws.jobs`.
"""

from core.aws.sagemaker_linear_learner.features import (
    FORMATS,
    RECORDS_PER_FILE,
    Prepared,
    Split,
    TableFeatureBuilder,
    TextFeatureBuilder,
    builder_from_spec,
    prepare_table,
    prepare_text,
    write_shards,
)
from core.aws.sagemaker_linear_learner.metrics import (
    classification_metrics,
    compare_verdict,
    final_metrics,
    linear_learner_test_metrics,
    local_baseline,
    regression_metrics,
)
from core.aws.sagemaker_linear_learner.training import (
    DEFAULT_INSTANCE,
    IMAGES_FILE,
    TRAIN_KIND,
    hyperparameters_for,
    image_uri,
    plan_training,
)
from core.aws.sagemaker_linear_learner.transform import (
    TRANSFORM_KIND,
    parse_transform_output,
    plan_transform,
    rebuild_builder,
)

__all__ = [
    "FORMATS", "RECORDS_PER_FILE", "Prepared", "Split", "TableFeatureBuilder", "TextFeatureBuilder",
    "builder_from_spec", "prepare_table", "prepare_text", "write_shards",
    "classification_metrics", "compare_verdict", "final_metrics", "linear_learner_test_metrics", "local_baseline",
    "regression_metrics",
    "DEFAULT_INSTANCE", "IMAGES_FILE", "TRAIN_KIND", "hyperparameters_for", "image_uri", "plan_training",
    "TRANSFORM_KIND", "parse_transform_output", "plan_transform", "rebuild_builder",
]
