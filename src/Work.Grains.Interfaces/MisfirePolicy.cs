namespace Work;

/// <summary>What a recurring job does with due times that passed while nothing could run them (its silo was down).</summary>
public enum MisfirePolicy
{
    /// <summary>Run once, late, for all the due times missed, then continue on the grid. The default.</summary>
    FireOnce = 0,

    /// <summary>Run none of the missed due times; continue at the next grid point.</summary>
    Skip = 1,
}
